"""Training: the unsupervised linear aligner (:mod:`.align`, built on :mod:`.linear` maps and Procrustes,
:mod:`.matching` nearest neighbours and :mod:`.transport` Sinkhorn) and the vec2vec GAN (:mod:`.model`,
:mod:`.trainer`)."""
