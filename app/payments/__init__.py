"""Payments: WeChat Pay v3 for every domain that sells something (the payable contract), with a ledger
that always reconciles."""
