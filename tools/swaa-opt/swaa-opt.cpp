//===- swaa-opt.cpp - mlir-opt with the attn dialect and swaa passes ------===//
//
// The driver that lit tests use: parses MLIR, runs passes and pipelines given
// on the command line (upstream ones and swaa's), and prints the result.
//
//===----------------------------------------------------------------------===//

#include "tools/RegisterEverything.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::swaa::registerAllSwaaDialects(registry);
  mlir::swaa::registerAllSwaaPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "swaa optimizer driver: upstream MLIR plus the attn dialect and "
      "swaa's passes and pipelines\n",
      registry));
}
