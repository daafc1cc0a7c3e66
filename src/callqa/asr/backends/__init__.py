"""ASR backends behind one interface. See base.py."""
