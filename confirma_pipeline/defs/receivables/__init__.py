"""Receivables: payments and settlements pulled back from Confirma into the warehouse."""
