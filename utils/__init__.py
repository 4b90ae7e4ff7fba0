"""Helpers named after the guide's functions (utils/*.ts in the Astro original)."""
