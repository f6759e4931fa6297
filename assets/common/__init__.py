"""What every layer shares: settings, resources, partitions, errors."""
