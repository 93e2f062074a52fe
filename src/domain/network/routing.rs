//! Internet gateways, route tables with their routes and associations, network ACLs.
