"""The built-in account service's own public pages (sign-in), as the vendor's would be."""
