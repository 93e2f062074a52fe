//! CreateNetworkInterface … DescribeNetworkInterfaces.
