"""The expression language: grammar, parser, type checker and compilers."""
