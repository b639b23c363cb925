"""Legacy batch adapters (INTG, issue 19): area systems' files into the platform's CloudEvents."""
