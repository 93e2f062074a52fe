//! The `InstanceTypeInfo` and `InstanceTypeOffering` shapes.
