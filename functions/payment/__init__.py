"""Fines and taxes (PAY): a person's debts, priced for the day by policies/payment."""
