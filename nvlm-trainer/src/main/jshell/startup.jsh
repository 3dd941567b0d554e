// ./nvlm shell startup: the API a PyTorch user reaches for, imported.
import nvlm.kernels.DType;
import nvlm.tensor.*;
import nvlm.tensor.nn.*;
import nvlm.tensor.optim.*;
import nvlm.tensor.io.*;
import nvlm.api.*;
import nvlm.model.checkpoint.*;
System.out.println("nvlm shell: try  var x = Tensor.randn(new Random(0), 2, 3);  x.matmul(x.t())");
System.out.println("            or   var m = VisionLanguageModel.open(Path.of(\"DIR\")); m.newChat().ask(\"Hi\")");
