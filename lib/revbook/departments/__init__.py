"""Each department's analytics, named as notebooks/<department>/ is: marts in, numbers and frames out,
never formatted text (pages formats). `headlines` holds the headline number type all of them return."""
