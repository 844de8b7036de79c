# Paper exhibits: one parameterised papermill notebook per table/figure. The notebooks only
# load results of the other rules and draw or tabulate them (code in crlmflow.report.exhibits and
# crlmflow.report.plots); executed copies are kept under OUT/notebooks/.


rule exhibit_flowchart:
    input:
        notebook="notebooks/figure1_flowchart.ipynb",
        flow=f"{OUT}/data/development/flow.json",
        split=f"{OUT}/data/split_summary.json",
        code=[
            "src/crlmflow/report/plots/flowchart.py",
            "src/crlmflow/report/exhibits/flow.py",
        ],
    output:
        notebook=f"{OUT}/notebooks/figure1_flowchart.ipynb",
        pdf=report(
            f"{OUT}/figures/figure1_flowchart.pdf",
            caption="../report/figure1_flowchart.rst",
            category="Paper exhibits",
            subcategory="Figures",
        ),
        png=report(
            f"{OUT}/figures/figure1_flowchart.png",
            caption="../report/figure1_flowchart.rst",
            category="Paper exhibits",
            subcategory="Figures",
        ),
    log:
        f"{OUT}/logs/exhibit_flowchart.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            flow=input.flow,
            split_summary=input.split,
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_table1:
    input:
        notebook="notebooks/table1.ipynb",
        cohort=f"{OUT}/data/analysis_cohort.csv",
        code="src/crlmflow/report/exhibits/baseline.py",
    output:
        notebook=f"{OUT}/notebooks/table1.ipynb",
        csv=report(
            f"{OUT}/tables/table1.csv",
            caption="../report/table1.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
        html=report(
            f"{OUT}/tables/table1.html",
            caption="../report/table1.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
        md=report(
            f"{OUT}/tables/table1.md",
            caption="../report/table1.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
    log:
        f"{OUT}/logs/exhibit_table1.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            cohort=input.cohort,
            sets=SETS,
            candidates=config["candidates"],
            out_base=output.csv[: -len(".csv")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_table2:
    input:
        notebook="notebooks/table2.ipynb",
        univariable=expand(f"{OUT}/models/{{ep}}/univariable.csv", ep=ENDPOINTS),
        multivariable=expand(f"{OUT}/models/{{ep}}/multivariable.csv", ep=ENDPOINTS),
        code="src/crlmflow/report/exhibits/regression.py",
    output:
        notebook=f"{OUT}/notebooks/table2.ipynb",
        csv=report(
            f"{OUT}/tables/table2.csv",
            caption="../report/table2.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
        html=report(
            f"{OUT}/tables/table2.html",
            caption="../report/table2.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
        md=report(
            f"{OUT}/tables/table2.md",
            caption="../report/table2.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
    log:
        f"{OUT}/logs/exhibit_table2.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            univariable=ep_files(f"{OUT}/models/{{ep}}/univariable.csv"),
            multivariable=ep_files(f"{OUT}/models/{{ep}}/multivariable.csv"),
            endpoint_labels={ep: ep_short(ep) for ep in ENDPOINTS},
            screen_p=config["selection"]["screen_p"],
            candidates=config["candidates"],
            out_base=output.csv[: -len(".csv")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_table3:
    input:
        notebook="notebooks/table3.ipynb",
        rates=f"{OUT}/survival/km_rates.csv",
        code="src/crlmflow/report/exhibits/survival_rates.py",
    output:
        notebook=f"{OUT}/notebooks/table3.ipynb",
        csv=report(
            f"{OUT}/tables/table3.csv",
            caption="../report/table3.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
        html=report(
            f"{OUT}/tables/table3.html",
            caption="../report/table3.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
        md=report(
            f"{OUT}/tables/table3.md",
            caption="../report/table3.rst",
            category="Paper exhibits",
            subcategory="Tables",
        ),
    log:
        f"{OUT}/logs/exhibit_table3.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            km_rates=input.rates,
            endpoints=ENDPOINTS,
            sets=SETS,
            horizons=config["horizons"],
            conf_type=config["km"]["conf_type"],
            out_base=output.csv[: -len(".csv")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_figure_model:
    input:
        notebook="notebooks/figure_model.ipynb",
        multivariable=f"{OUT}/models/{{endpoint}}/multivariable.csv",
        nomogram=f"{OUT}/models/{{endpoint}}/nomogram.json",
        roc=f"{OUT}/validation/{{endpoint}}/roc_curves.csv",
        dca=f"{OUT}/validation/{{endpoint}}/decision_curves.csv",
        performance=f"{OUT}/validation/{{endpoint}}/performance.csv",
        code=[
            "src/crlmflow/report/exhibits/nomogram.py",
            "src/crlmflow/report/plots/roc.py",
            "src/crlmflow/report/plots/dca.py",
            "src/crlmflow/report/plots/panels.py",
            "src/crlmflow/report/plots/roc_dca.py",
        ],
    output:
        notebook=f"{OUT}/notebooks/figure_model_{{endpoint}}.ipynb",
        pdf=report(
            f"{OUT}/figures/figure_model_{{endpoint}}.pdf",
            caption="../report/figure_model.rst",
            category="Paper exhibits",
            subcategory="Figures",
        ),
        png=report(
            f"{OUT}/figures/figure_model_{{endpoint}}.png",
            caption="../report/figure_model.rst",
            category="Paper exhibits",
            subcategory="Figures",
        ),
        panels=report(
            multiext(
                f"{OUT}/figures/figure_model_{{endpoint}}",
                "_A_forest.pdf",
                "_A_forest.png",
                "_B_nomogram.pdf",
                "_B_nomogram.png",
                "_CF_roc_dca.pdf",
                "_CF_roc_dca.png",
            ),
            caption="../report/figure_model.rst",
            category="Paper exhibits",
            subcategory="Figure panels",
        ),
    log:
        f"{OUT}/logs/exhibit_figure_model_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoint=wc.endpoint,
            endpoint_label=config["endpoints"][wc.endpoint]["label"],
            figure_number=FIG_NO[wc.endpoint],
            multivariable=input.multivariable,
            nomogram=input.nomogram,
            roc_curves=input.roc,
            decision_curves=input.dca,
            performance=input.performance,
            sets=SETS,
            horizons=config["horizons"],
            candidates=config["candidates"],
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_figure4:
    input:
        notebook="notebooks/figure4_km.ipynb",
        curves=f"{OUT}/survival/km_curves.csv",
        at_risk=f"{OUT}/survival/km_at_risk.csv",
        tests=f"{OUT}/survival/km_tests.csv",
        code=["src/crlmflow/report/plots/km.py", "src/crlmflow/report/plots/panels.py"],
    output:
        notebook=f"{OUT}/notebooks/figure4_km.ipynb",
        pdf=report(
            f"{OUT}/figures/figure4_km.pdf",
            caption="../report/figure4_km.rst",
            category="Paper exhibits",
            subcategory="Figures",
        ),
        png=report(
            f"{OUT}/figures/figure4_km.png",
            caption="../report/figure4_km.rst",
            category="Paper exhibits",
            subcategory="Figures",
        ),
    log:
        f"{OUT}/logs/exhibit_figure4.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            km_curves=input.curves,
            km_at_risk=input.at_risk,
            km_tests=input.tests,
            sets=SETS,
            endpoint_labels={ep: config["endpoints"][ep]["label"] for ep in ENDPOINTS},
            km_group=config["km"].get("group"),
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_calibration:
    input:
        notebook="notebooks/supplementary_calibration.ipynb",
        calibration=f"{OUT}/validation/{{endpoint}}/calibration.csv",
        code="src/crlmflow/report/plots/calibration.py",
    output:
        notebook=f"{OUT}/notebooks/supplementary_calibration_{{endpoint}}.ipynb",
        pdf=report(
            f"{OUT}/figures/suppl_calibration_{{endpoint}}.pdf",
            caption="../report/suppl_calibration.rst",
            category="Paper exhibits",
            subcategory="Supplementary figures",
        ),
        png=report(
            f"{OUT}/figures/suppl_calibration_{{endpoint}}.png",
            caption="../report/suppl_calibration.rst",
            category="Paper exhibits",
            subcategory="Supplementary figures",
        ),
    log:
        f"{OUT}/logs/exhibit_calibration_{{endpoint}}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoint=wc.endpoint,
            endpoint_label=config["endpoints"][wc.endpoint]["label"],
            calibration=input.calibration,
            sets=SETS,
            horizons=config["horizons"],
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_kras:
    input:
        notebook="notebooks/supplementary_kras.ipynb",
        curves=f"{OUT}/survival/km_curves.csv",
        at_risk=f"{OUT}/survival/km_at_risk.csv",
        tests=f"{OUT}/survival/km_tests.csv",
        code="src/crlmflow/report/plots/km.py",
    output:
        notebook=f"{OUT}/notebooks/supplementary_kras.ipynb",
        pdf=report(
            f"{OUT}/figures/suppl_kras.pdf",
            caption="../report/suppl_kras.rst",
            category="Paper exhibits",
            subcategory="Supplementary figures",
        ),
        png=report(
            f"{OUT}/figures/suppl_kras.png",
            caption="../report/suppl_kras.rst",
            category="Paper exhibits",
            subcategory="Supplementary figures",
        ),
    log:
        f"{OUT}/logs/exhibit_kras.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            km_curves=input.curves,
            km_at_risk=input.at_risk,
            km_tests=input.tests,
            endpoint_labels={ep: config["endpoints"][ep]["label"] for ep in ENDPOINTS},
            fig_base=output.pdf[: -len(".pdf")],
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_beyond_paper:
    input:
        notebook="notebooks/beyond_paper.ipynb",
        performance=expand(f"{OUT}/validation/{{ep}}/performance.csv", ep=ENDPOINTS),
        fit=expand(f"{OUT}/models/{{ep}}/fit.json", ep=ENDPOINTS),
        # from the bootstrap rule when it exists; the tables say 'not available' otherwise
        bootstrap=bootstrap_inputs(),
        code="src/crlmflow/report/exhibits/performance.py",
    output:
        notebook=f"{OUT}/notebooks/beyond_paper.ipynb",
        stability=report(
            multiext(f"{OUT}/tables/selection_stability", ".csv", ".html", ".md"),
            caption="../report/selection_stability.rst",
            category="Beyond the paper",
        ),
        performance=report(
            multiext(f"{OUT}/tables/performance_comparison", ".csv", ".html", ".md"),
            caption="../report/performance_comparison.rst",
            category="Beyond the paper",
        ),
    log:
        f"{OUT}/logs/exhibit_beyond_paper.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            endpoints=ENDPOINTS,
            endpoint_labels={ep: ep_short(ep) for ep in ENDPOINTS},
            performance=ep_files(f"{OUT}/validation/{{ep}}/performance.csv"),
            optimism=ep_files(f"{OUT}/validation/{{ep}}/optimism.csv"),
            selection_frequency=ep_files(
                f"{OUT}/validation/{{ep}}/selection_frequency.csv"
            ),
            fit=ep_files(f"{OUT}/models/{{ep}}/fit.json"),
            candidates=config["candidates"],
            stability_base=f"{OUT}/tables/selection_stability",
            performance_base=f"{OUT}/tables/performance_comparison",
        ),
    script:
        "../../scripts/run_notebook.py"


rule exhibit_paper_comparison:
    input:
        notebook="notebooks/paper_comparison.ipynb",
        targets="data/paper_targets.yaml",
        cohort=f"{OUT}/data/analysis_cohort.csv",
        split=f"{OUT}/data/split_summary.json",
        rates=f"{OUT}/survival/km_rates.csv",
        tests=f"{OUT}/survival/km_tests.csv",
        univariable=expand(f"{OUT}/models/{{ep}}/univariable.csv", ep=ENDPOINTS),
        multivariable=expand(f"{OUT}/models/{{ep}}/multivariable.csv", ep=ENDPOINTS),
        performance=expand(f"{OUT}/validation/{{ep}}/performance.csv", ep=ENDPOINTS),
        cutpoint=expand(f"{OUT}/models/{{ep}}/cutpoint.json", ep=ENDPOINTS),
        code="src/crlmflow/report/exhibits/comparison.py",
    output:
        notebook=f"{OUT}/notebooks/paper_comparison.ipynb",
        tables=report(
            multiext(f"{OUT}/tables/paper_comparison", ".csv", ".md", ".html"),
            caption="../report/paper_comparison.rst",
            category="Paper vs ours",
        ),
    log:
        f"{OUT}/logs/exhibit_paper_comparison.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_for(1500),
        runtime=runtime_for(15),
    params:
        nb=lambda wc, input, output: nb_params(
            targets=input.targets,
            cohort=input.cohort,
            split_summary=input.split,
            km_rates=input.rates,
            km_tests=input.tests,
            endpoints=ENDPOINTS,
            univariable=ep_files(f"{OUT}/models/{{ep}}/univariable.csv"),
            multivariable=ep_files(f"{OUT}/models/{{ep}}/multivariable.csv"),
            performance=ep_files(f"{OUT}/validation/{{ep}}/performance.csv"),
            cutpoint=ep_files(f"{OUT}/models/{{ep}}/cutpoint.json"),
            sets=SETS,
            candidates=config["candidates"],
            out_base=f"{OUT}/tables/paper_comparison",
        ),
    script:
        "../../scripts/run_notebook.py"
