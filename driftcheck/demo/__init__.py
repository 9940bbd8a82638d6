"""The built-in demo and the scenario builder the fixtures share."""
