//! The `NetworkInterface` shape (DescribeNetworkInterfaces, and inside instances).
