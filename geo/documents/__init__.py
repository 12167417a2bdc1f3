"""Documents (执法文书): templates, numbers, filling and rendering, signatures and the organ's seal."""
