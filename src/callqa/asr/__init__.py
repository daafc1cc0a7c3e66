"""Speech recognition: recordings in, role-labelled transcripts out.

Kept import-light: heavy libraries (torch, ctranslate2, whisper) load lazily
inside the backends so that checks and reports can use the types below
without paying for them.
"""
