"""Drugs and fentanyl precursors: controlled substances, pre-export notifications and their risk rules."""
