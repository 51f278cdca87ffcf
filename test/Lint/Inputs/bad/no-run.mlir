// A test without a RUN line (input of run-lines.test).
func.func @f() { return }
