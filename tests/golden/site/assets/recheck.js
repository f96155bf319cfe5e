// placeholder until the re-check module lands
