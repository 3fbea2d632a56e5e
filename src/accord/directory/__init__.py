"""Who is who: agencies, officers and their credentials, pinned peer nodes."""
