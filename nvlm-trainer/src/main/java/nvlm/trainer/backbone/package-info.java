/**
 * Stage 0: the backbones stages 1 and 2 start from (project decision; the paper starts from
 * pretrained InternViT and Qwen2 weights, which cannot be downloaded here).
 *
 * <ul>
 *   <li>{@link nvlm.trainer.recipe.BackboneRecipe}: the hyper-parameters, and the hash the shipped
 *       backbones record;</li>
 *   <li>{@link nvlm.trainer.backbone.VisionPretraining}: InternViT with a throwaway head
 *       ({@link nvlm.trainer.backbone.CellClassifier}) telling the cell symbol of each pixel-shuffled
 *       token ({@link nvlm.trainer.data.CellSymbols}), on world pictures
 *       ({@link nvlm.trainer.backbone.CellBatch}); {@link nvlm.trainer.backbone.CellAccuracy} per kind
 *       of cell;</li>
 *   <li>the decoder: {@link nvlm.trainer.train.Trainer} with
 *       {@link nvlm.trainer.recipe.Stage#TEXT_PRETRAINING} on {@link nvlm.trainer.data.TaskBlend#stage0Text()}:
 *       text only, the pictures described in words, no image token and no tile tag, so that it
 *       favours none of D, X and H (the paper starts all three from the same text-only LLM);</li>
 *   <li>{@link nvlm.trainer.backbone.BackbonePretraining}: both, into one model folder with a
 *       manifest ({@code ./nvlm pretrain-backbones});</li>
 *   <li>{@link nvlm.trainer.backbone.Backbones}: the shipped copy (resources
 *       {@value nvlm.trainer.backbone.Backbones#SHIPPED_RESOURCE}), and loading the vision encoder
 *       and the LLM into a model of any architecture, from these backbones or from real
 *       checkpoints.</li>
 * </ul>
 */
package nvlm.trainer.backbone;
