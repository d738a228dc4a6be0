def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the rehearsal's timings and what the local endpoint could not vouch for."""
    for line in getattr(config, "rehearsal_report", []):
        terminalreporter.write_line(line)
