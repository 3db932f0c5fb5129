"""Training: the unsupervised linear aligner (:mod:`.align`) and the vec2vec GAN (:mod:`.model`, :mod:`.trainer`)."""
