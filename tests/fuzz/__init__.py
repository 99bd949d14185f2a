"""Fuzzing: hostile and broken input through every stage (see fuzzlib for the rules)."""
