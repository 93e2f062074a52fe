//! Internet gateways, route tables, routes and associations, network ACLs.
