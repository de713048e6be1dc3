"""The store: the database the channels share (registrations, question log, feedback, update
claims, question allowances), roles and staff invite codes."""
