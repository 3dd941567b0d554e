/**
 * The training report: {@link nvlm.trainer.report.TrainingReport} writes report.html with
 * loss, learning-rate and accuracy plots drawn by {@link nvlm.trainer.report.LinePlot}
 * (Java2D, headless) and the evaluation table per stage.
 */
package nvlm.trainer.report;
