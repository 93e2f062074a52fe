//! The Elastic IP `Address` shape (DescribeAddresses).
