//! CreateInternetGateway … DescribeRouteTables: internet gateways and route tables.
