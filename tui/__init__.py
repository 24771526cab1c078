"""The SecureCart DR Lab terminal UI (Textual): `lab`, `lab tui`, and in a browser `lab serve`."""
