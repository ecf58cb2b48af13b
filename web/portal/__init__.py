"""The public heritage portal: routes and what it shows."""
