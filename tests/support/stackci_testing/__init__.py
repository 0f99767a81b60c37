"""Test support for StackCI: run actions as users do, read what they leave behind."""
