"""``nerd label``: trained models (a larger student, an ensemble) label unlabelled text with soft labels."""
