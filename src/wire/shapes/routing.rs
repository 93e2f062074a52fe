//! The `InternetGateway` and `RouteTable` shapes.
