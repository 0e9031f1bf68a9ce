# The model layer, built by `sam build` (template.yaml: ModelLayer, BuildMethod makefile).
#
# The layer's ContentUri is infra/lambda/model-layer/${Architecture}, so the template's one
# Architecture parameter picks the Makefile below, and with it the ONNX Runtime the layer
# carries: the layer always matches the functions. SAM runs
#   make --makefile infra/lambda/model-layer/<arch>/Makefile build-ModelLayer
# with ARTIFACTS_DIR set (the layer's root, mounted at /opt in Lambda).
#
# MODEL_LAYER_ZIP=/path/to/model-layer-<arch>.zip uses a zip built elsewhere (e.g. the package
# workflow's artifact) instead of running layers/model/build.sh.

LAYER_MK := $(abspath $(lastword $(MAKEFILE_LIST)))
ROOT := $(abspath $(dir $(LAYER_MK))/../../..)
PYTHON ?= python3

ifndef ARCH
$(error ARCH is not set: use infra/lambda/model-layer/<arch>/Makefile)
endif

ifdef MODEL_LAYER_ZIP
ZIP := $(MODEL_LAYER_ZIP)
else
ZIP := $(ROOT)/target/lambda/layers/model-layer-$(ARCH).zip
endif

.PHONY: build-ModelLayer
build-ModelLayer:
ifndef MODEL_LAYER_ZIP
	cd "$(ROOT)" && layers/model/build.sh layer --arch "$(ARCH)" --models models target/lambda/layers
endif
	test -n "$(ARTIFACTS_DIR)"
	"$(PYTHON)" "$(dir $(LAYER_MK))unpack.py" "$(ZIP)" "$(ARTIFACTS_DIR)"
