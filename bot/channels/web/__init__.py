"""The web channel: the chat for learners (and signed-in staff) on the alliance's own pages, its
embeddable widget, and the admin console."""
