"""The editorial admin: screens, forms, roles and permissions editors work with."""
