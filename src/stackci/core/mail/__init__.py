"""SMTP: sessions, message building and the retry policy for mail."""
