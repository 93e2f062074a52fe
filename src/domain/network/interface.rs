//! Network interfaces: each instance's primary one and secondary ones.
