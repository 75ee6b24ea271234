"""Services hold the logic; views call them and render."""
