"""The billing REST API: key verification, credit balance and ledger."""
