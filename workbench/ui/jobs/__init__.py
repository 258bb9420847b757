"""Job functions and the controllers that run them on the engine; MainWindow wires them to panels."""
