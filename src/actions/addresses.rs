//! AllocateAddress … DescribeAddresses: Elastic IPs.
