"""Messages and typed stubs generated from Protos/assay/v1 by `make proto`. DO NOT EDIT."""
