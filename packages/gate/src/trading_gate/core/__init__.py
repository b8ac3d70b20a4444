"""The gate's pure core: values in, decisions and actions out. No I/O, no clock reads."""
