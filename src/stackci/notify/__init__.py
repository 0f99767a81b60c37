"""notify-email: the mail's text and HTML (render), and what it attaches (attach)."""
