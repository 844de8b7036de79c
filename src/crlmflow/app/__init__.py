"""The self-contained nomogram calculator page (rule ``nomogram_app``)."""
