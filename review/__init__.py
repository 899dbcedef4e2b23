"""The review stage: people check the teacher and write gold data (``nerd review``)."""
