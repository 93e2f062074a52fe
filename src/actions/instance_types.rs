//! DescribeInstanceTypes, DescribeInstanceTypeOfferings, instance credit specifications.
