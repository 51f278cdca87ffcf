// A test whose directives lack colons (input of run-lines.test).
// RUN: true
// RUN swaa-opt %s | FileCheck %s
// CHECK-NEXT func.func
